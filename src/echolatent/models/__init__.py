"""Plain nn.Modules: the segmentation U-Net (:mod:`.unet`) and the shape-model family (:mod:`.shape`)."""
