"""The admin's plugin upload form: the zip is validated in `clean()`, so a broken upload is refused
with its reason next to the field and nothing is stored."""

from __future__ import annotations

from django import forms

from assets.bundles import MAX_ZIP_BYTES, BundleInvalid, read_bundle
from assets.models import Animation


class PluginUploadForm(forms.Form):
    bundle = forms.FileField(label="Plugin zip", help_text=(
        "The plugin folder as a zip: manifest.json, the entry module (index.mjs) and assets/thumbnail.svg; "
        f"at most {MAX_ZIP_BYTES // (1024 * 1024)} MB. It is added unpublished."))
    title = forms.CharField(max_length=200, help_text="Korean title")
    title_en = forms.CharField(max_length=200, required=False, label="English title")
    category = forms.ChoiceField(choices=Animation.Category.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  help_text="Korean description")
    description_en = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                     label="English description")
    icon_name = forms.CharField(max_length=100, required=False, help_text="react-icons Io5 name")
    tags = forms.CharField(required=False, help_text="Space-separated tags")
    is_pro = forms.BooleanField(required=False)

    def clean_bundle(self):
        upload = self.cleaned_data["bundle"]
        if upload.size > MAX_ZIP_BYTES:
            raise forms.ValidationError(f"The zip is larger than {MAX_ZIP_BYTES // (1024 * 1024)} MB.")
        try:
            bundle = read_bundle(upload.read())
        except BundleInvalid as exc:
            raise forms.ValidationError(f"Refused: {exc}") from exc
        if Animation.objects.filter(plugin_key=bundle.key).exists():
            raise forms.ValidationError(f"Refused: {bundle.key} is already in the catalogue (versions never change; "
                                        "upload a new version).")
        return bundle
