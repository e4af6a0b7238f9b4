"""halubench: run hallucination-detection judges over HaluBench and RefChecker."""

__version__ = "0.1.0"
