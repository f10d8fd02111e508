from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ecg.handler import register_body_reader
        from uploads.bodies import PATH, read_upload_body

        # Upload bodies are checked before and streamed while they are read, never spooled by Django.
        register_body_reader(PATH, {"PUT"}, read_upload_body)
