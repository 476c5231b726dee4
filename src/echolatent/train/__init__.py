"""Training: LightningModules, datamodules and the shared run-folder/Trainer set-up. Losses live here."""
