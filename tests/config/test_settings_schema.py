"""Judge files, task files, --judge-arg and --option are checked against typed schemas before a run.

Each mistake is one line (exit 2, no traceback) naming the file or flag, the key
and the keys allowed there; the CLI tests run the real command in a subprocess.
"""

import json
import typing

import pytest
from conftest import assert_one_line_error, run_cli

from halubench.backends import BACKENDS, JudgeSettings, resolve_judge
from halubench.config import discover
from halubench.data import RefCheckerResponseOptions, RefCheckerSetting, load_task
from halubench.data.refchecker import FAIL_RULES, SETTINGS

LEXICAL_KEYS = ("allowed keys: description, display_name, kind, license, parameters, provider, templates, "
                "threshold, url, weights")


def write_yaml(path, body: dict):
    path.write_text(json.dumps(body))  # JSON is YAML
    return path


def assert_stops(result, *needles):
    assert result.returncode == 2, result.stderr
    assert_one_line_error(result, *needles)
    assert not list(result.stdout.splitlines()[1:])  # nothing was judged


def test_misspelt_judge_arg_stops_the_run(tmp_path):
    result = run_cli("run", "--judge", "lexical", "--task", "halubench-sample", "--no-cache",
                     "--judge-arg", "threshhold=0.99", cwd=tmp_path)
    assert_stops(result, "--judge-arg threshhold=0.99: unknown key 'threshhold' (did you mean 'threshold'?)",
                 LEXICAL_KEYS)
    assert not (tmp_path / "results").exists()


def test_judge_arg_of_the_wrong_type(tmp_path):
    result = run_cli("run", "--judge", "gpt-4o", "--task", "halubench-sample", "--judge-arg",
                     "context_window=big", cwd=tmp_path, env={"OPENAI_API_KEY": "x"})
    assert_stops(result, "--judge-arg context_window=big: key 'context_window': Input should be a valid integer",
                 "(got 'big')", "allowed keys: api_key_env, base_url, batch, batch_discount, batch_fallback, "
                 "batch_poll, batch_price_per_million, batch_size, batch_wait_s, context_window,")


def test_unknown_key_in_a_judge_file(tmp_path):
    path = write_yaml(tmp_path / "mine.yaml", {"judge": "mine", "backend": "openai", "model": "m",
                                                "price_per_million": {"input": 1, "ouput": 2}})
    result = run_cli("run", "--judge", "mine", "--include-path", str(tmp_path), cwd=tmp_path)
    assert_stops(result, f"{path}: unknown key 'price_per_million.ouput' (did you mean 'output'?); "
                         "allowed keys: as_of, input, output")


def test_wrong_type_and_missing_key_in_judge_files(tmp_path):
    path = write_yaml(tmp_path / "strict.yaml", {"judge": "strict", "backend": "lexical", "threshold": "high"})
    result = run_cli("run", "--judge", "strict", "--include-path", str(tmp_path), cwd=tmp_path)
    assert_stops(result, f"{path}: key 'threshold': Input should be a valid number", "(got 'high')", LEXICAL_KEYS)
    path.unlink()
    path = write_yaml(tmp_path / "mute.yaml", {"judge": "mute", "backend": "constant"})
    result = run_cli("run", "--judge", "mute", "--include-path", str(tmp_path), cwd=tmp_path)
    assert_stops(result, f"{path}: missing key 'verdict'; allowed keys:")


def test_unknown_key_in_a_task_file(tmp_path):
    body = {"task": "mine", "loader": "halubench", "doc_to_text": "faithfulness", "doc_to_choice": ["PASS", "FAIL"],
            "data_file": "sample_data/halubench_sample.jsonl", "breakdown": ["domain"]}
    path = write_yaml(tmp_path / "mine.yaml", body)
    result = run_cli("run", "--judge", "lexical", "--task", "mine", "--include-path", str(tmp_path), cwd=tmp_path)
    assert_stops(result, f"{path}: unknown key 'breakdown' (did you mean 'breakdowns'?); allowed keys: breakdowns,")
    body.pop("breakdown")
    write_yaml(path, {**body, "options": {"fail_on": "x"}})
    result = run_cli("run", "--judge", "lexical", "--task", "mine", "--include-path", str(tmp_path), cwd=tmp_path)
    assert_stops(result, f"{path} options: unknown key 'fail_on'; allowed keys: none")


@pytest.mark.parametrize("task, option, needle", [
    ("halubench-sample", "fail_onn=x", "--option fail_onn=x: unknown key 'fail_onn'; allowed keys: none"),
    ("refchecker-zero", "fail_onn=x",
     "--option fail_onn=x: unknown key 'fail_onn' (did you mean 'fail_on'?); "
     "allowed keys: annotations, fail_on, settings"),
    ("refchecker-zero", "fail_on=[a]", "--option fail_on=[a]: key 'fail_on': Input should be 'contradiction' or "
                                       "'not_entailment' (got ['a'])"),
])
def test_bad_option_stops_before_any_data(tmp_path, task, option, needle):
    # No annotations or references anywhere: the option is refused before either is looked for.
    result = run_cli("run", "--judge", "always-pass", "--task", task, "--option", option, cwd=tmp_path,
                     env={"HALUBENCH_REFCHECKER_ANNOTATIONS": str(tmp_path / "none")})
    assert_stops(result, needle)


def test_every_shipped_judge_and_task_file_validates():
    for name in discover("judge"):
        resolve_judge(name)
    for name in discover("task"):
        load_task(name)


def test_card_metadata_is_accepted_and_never_reply_affecting():
    card = ["display_name=Lynx 70B", "provider=Patronus AI", "weights=open", "parameters=70B",
            "license=llama3", "url=https://huggingface.co/PatronusAI", "kind=fine-tuned"]
    plain = resolve_judge("lynx-70b")
    carded = resolve_judge("lynx-70b", overrides=card)
    assert carded.settings.weights == "open" and carded.reply_settings() == plain.reply_settings()
    with pytest.raises(Exception, match="key 'weights': Input should be 'open', 'closed' or 'none'"):
        resolve_judge("lynx-70b", overrides=["weights=public"])


def test_validated_settings_hash_alike_however_they_were_typed():
    assert (resolve_judge("gpt-4o", overrides=["generation.temperature=0"]).reply_settings()
            == resolve_judge("gpt-4o", overrides=["generation.temperature=0.0"]).reply_settings())


def test_vllm_placement_is_not_reply_affecting_but_the_rest_of_engine_is():
    base = resolve_judge("lynx-70b").reply_settings()
    assert "tensor_parallel_size" not in base["engine"] and base["engine"]["max_model_len"] == 8192
    spread = resolve_judge("lynx-70b", overrides=["engine.tensor_parallel_size=8", "engine.max_num_seqs=64"])
    assert spread.reply_settings() == base
    assert resolve_judge("lynx-70b", overrides=["engine.quantization=fp8"]).reply_settings() != base


def test_registries_name_what_exists_and_move_together():
    """Each backend entry names a judge that imports and its settings schema; RefChecker's lists agree."""
    for name, backend in BACKENDS.items():
        assert callable(backend.load()) and issubclass(backend.settings, JudgeSettings), name
    assert set(typing.get_args(RefCheckerSetting)) == set(SETTINGS)
    fail_on = RefCheckerResponseOptions.model_fields["fail_on"].annotation
    assert set(typing.get_args(fail_on)) == set(FAIL_RULES)
