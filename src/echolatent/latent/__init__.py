"""Latent-space tools of the shape models: encode/decode, sampling, interpolation, traversal, metrics, figures."""
