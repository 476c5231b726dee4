"""Shipped model files (``unet.pt``, ``arvae.pt``, ...) with their model cards."""
