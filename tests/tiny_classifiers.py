"""Tiny randomly initialised classifier judges, built locally in seconds.

No model can be downloaded in CI, yet the transformers backend must run for
real: these write a 2-layer RoBERTa-style sequence classifier (two-way or
three-way, with a byte-level BPE tokenizer and RoBERTa's pair template) and a
2-layer T5 (with a Metaspace BPE tokenizer that ends inputs with ``</s>``), in
folders ``from_pretrained`` loads like hub snapshots. Their scores are noise;
the tests check the path (pairs, chunks, batches, cache), not the verdicts.
"""

from __future__ import annotations

from pathlib import Path

WINDOW = 256  # tokens: small, so that long passages need several chunks


def _bpe(corpus: list[str], special: list[str], metaspace: bool, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    if metaspace:
        bpe.pre_tokenizer = pre_tokenizers.Metaspace()
        bpe.decoder = decoders.Metaspace()
        alphabet = sorted(set("".join(corpus)) | {"▁"})
    else:
        bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        bpe.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, initial_alphabet=alphabet,
                                  show_progress=False)
    bpe.train_from_iterator(corpus, trainer)
    return bpe


def build_tiny_roberta(folder: Path, corpus: list[str], id2label: dict[int, str]) -> Path:
    """A RoBERTa-style cross-encoder with ``len(id2label)`` classes named as given."""
    import torch
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForSequenceClassification

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = _bpe(corpus, special, metaspace=False, vocab_size=2000)
    bpe.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        pad_token="<pad>", unk_token="<unk>", mask_token="<mask>", model_max_length=WINDOW,
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=bpe.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=WINDOW + 2, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, num_labels=len(id2label), id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    RobertaForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_t5(folder: Path, corpus: list[str], d_model: int = 32, layers: int = 2, window: int = WINDOW,
                  d_ff: int | None = None, heads: int = 2) -> Path:
    """A seq2seq scorer read like MiniCheck-Flan-T5 (the "1" token against "0").

    The defaults make it tiny; the benchmark asks for flan-t5-base's shape.
    """
    import torch
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    special = ["<pad>", "</s>", "<unk>"]
    bpe = _bpe([*corpus, "0 1"], special, metaspace=True, vocab_size=2000)
    bpe.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="</s>", pad_token="<pad>", unk_token="<unk>", model_max_length=window,
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=bpe.get_vocab_size(), d_model=d_model, d_ff=d_ff or 2 * d_model, d_kv=d_model // heads,
        num_layers=layers, num_heads=heads, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder, safe_serialization=True)
    return folder
