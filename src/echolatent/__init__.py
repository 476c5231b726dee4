"""echolatent: temporally consistent echocardiography segmentation in the latent space of an AR-VAE."""

from echolatent.labels import Instant, Label, View

__version__ = "0.2.0"

__all__ = ["Instant", "Label", "View", "__version__"]
