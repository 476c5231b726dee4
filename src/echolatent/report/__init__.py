"""Figures and the HTML report of a processed set of sequences."""
