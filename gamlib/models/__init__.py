"""The models, side by side: configs, the shared language-model shell, GAM, Transformer, Mamba, the registry."""
