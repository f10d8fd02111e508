from django.apps import AppConfig


class EcgConfig(AppConfig):
    name = "ecg"
    verbose_name = "ECG"
