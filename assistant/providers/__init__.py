"""Language-model providers behind the assistant, chosen by ``ECG_ASSISTANT_PROVIDER``."""
