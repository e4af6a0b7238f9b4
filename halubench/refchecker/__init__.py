"""The RefChecker benchmark (Amazon, arXiv 2405.14486): human-labelled claim triplets.

``annotations`` fetches and reads the human labels, ``references`` joins each
item to the text it is checked against, ``agreement`` computes the paper's
response-level figures, ``make_references`` builds a references file from the
upstream sources. ``halubench.loaders.refchecker`` turns all of it into samples.
"""
