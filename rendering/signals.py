"""Signals other apps listen to (rendering must not import them)."""

from django.dispatch import Signal

# Sent inside the create transaction: sender=RenderJob, job=<RenderJob>, plugins=[name@version, ...].
render_created = Signal()
