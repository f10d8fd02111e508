"""The animations we ship (`assets/plugins/`) and the idempotent loader that puts them in the catalogue.

`sync_bundled()` runs after every `migrate` (post_migrate): it creates the rows a fresh install lacks
(published) and refreshes the manifest of bundled rows from the repository, but never touches what staff
edit (titles, flags, prices, published state). Titles and descriptions are ours, Korean with English.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent / "plugins"
AUTHOR_ID = "ecg"
AUTHOR_NAME = "ECG"


@dataclass(frozen=True)
class Seed:
    name: str
    category: str
    icon: str
    tags: tuple[str, ...]
    title: str
    title_en: str
    description: str
    description_en: str


SEEDS: tuple[Seed, ...] = (
    Seed("rotation", "Dynamic", "IoSyncOutline", ("text", "rotation", "spin", "classic", "gsap", "animation"),
         "회전 등장", "Rotation",
         "글자가 하나씩 3D 축을 따라 회전하며 나타나고, 살짝 기운 채로 멈춥니다.",
         "Letters spin in one after another on 3D axes and settle with a slight tilt."),
    Seed("typewriter", "Smooth", "IoTextOutline", ("text", "typing", "typewriter", "sequential", "gsap", "animation"),
         "타자기", "Typewriter",
         "커서 뒤로 글자가 한 자씩 타이핑됩니다. 창이 끝나기 전에 모든 글자가 나타납니다.",
         "The word is typed character by character behind a cursor, complete by the end of the window."),
    Seed("elastic", "Dynamic", "IoResizeOutline", ("text", "bounce", "elastic", "spring", "gsap", "animation"),
         "탄성 튕김", "Elastic",
         "단어가 스프링처럼 튀어 오르며 커졌다가 제자리에 자리 잡고, 회색에서 흰색으로 밝아집니다.",
         "Words spring up with an overshoot and settle, brightening from grey to white."),
    Seed("glitch", "Unique", "IoFlashOutline", ("text", "glitch", "digital", "cyberpunk", "gsap", "animation"),
         "글리치", "Glitch",
         "빨강·청록 잔상과 함께 디지털 노이즈처럼 흔들리다가 깨끗하게 돌아옵니다.",
         "A digital glitch with red and cyan ghosts that jitters, blinks and snaps back clean."),
    Seed("magnetic", "Unique", "IoMagnetOutline", ("text", "magnetic", "pull", "scatter", "gsap", "animation"),
         "자석", "Magnetic",
         "흩어진 글자들이 자석에 끌리듯 제자리로 돌아와 탄성 있게 멈춥니다.",
         "Scattered letters are pulled back into place and snap to rest with a spring."),
    Seed("fadein", "Smooth", "IoEyeOutline", ("text", "fade", "stagger", "sequential", "gsap", "animation"),
         "페이드 인", "Fade in",
         "글자가 차례로 서서히 나타나며 커지고, 은은한 빛이 사라집니다.",
         "Letters fade and grow in one after another with a fading glow."),
    Seed("scalepop", "Dynamic", "IoExpandOutline", ("text", "scale", "pop", "impact", "gsap", "animation"),
         "스케일 팝", "Scale pop",
         "글자가 크게 튀어나왔다가 탄성 있게 자리 잡고, 연노랑으로 번쩍입니다.",
         "Letters pop past full size, settle with a spring and flash pale yellow."),
    Seed("slideup", "Smooth", "IoArrowUpOutline", ("text", "slide", "up", "modern", "gsap", "animation"),
         "슬라이드 업", "Slide up",
         "단어가 아래에서 올라오며 흐림이 걷히고 선명해집니다.",
         "Words rise into place from below, fading in and un-blurring."),
    Seed("cwi-bouncing", "Dynamic", "IoMusicalNotesOutline", ("text", "bounce", "speaker", "color", "cwi"),
         "말소리 물결", "Voice bounce",
         "글자가 물결처럼 차례로 튀어 오릅니다. 음높이가 높은 단어일수록 더 높이 뜁니다.",
         "Letters hop in a wave; with voice features, higher-pitched words hop higher."),
    Seed("cwi-color", "Smooth", "IoColorPaletteOutline", ("text", "color", "speaker", "palette", "cwi"),
         "화자 색상", "Speaker colour",
         "글자가 차례로 화자의 색으로 물듭니다.",
         "Letters take the speaker's colour one after another."),
    Seed("cwi-loud", "Dynamic", "IoVolumeHighOutline", ("text", "loud", "tremble", "emphasis", "cwi"),
         "큰 소리 강조", "Loud",
         "단어가 크게 부풀고 떨리며 강조됩니다. 측정된 음량이 클수록 더 강해집니다.",
         "The word swells and trembles; louder measured words swell more."),
    Seed("cwi-whisper", "Smooth", "IoVolumeLowOutline", ("text", "whisper", "soft", "fade", "cwi"),
         "속삭임", "Whisper",
         "단어가 작아지며 가라앉고 흐려집니다. 측정된 음량이 작을수록 더 작아집니다.",
         "The word shrinks, sinks and softens; quieter measured words shrink more."),
    Seed("bobY", "Dynamic", "IoSwapVerticalOutline", ("text", "wave", "motion", "rhythm", "gsap", "animation"),
         "위아래 흔들기", "Bob",
         "단어가 리듬에 맞춰 위아래로 흔들립니다.",
         "The word bobs up and down."),
    Seed("flames", "Unique", "IoFlameOutline", ("text", "flame", "fire", "effect", "intense", "gsap"),
         "불꽃", "Flames",
         "단어 뒤에서 불꽃이 일렁입니다.",
         "A flame flickers behind the word."),
    Seed("fliptype", "Dynamic", "IoCopyOutline", ("text", "flip", "3d", "typing", "card", "animation"),
         "플립 타이핑", "Flip type",
         "글자가 카드처럼 뒤집히며 한 자씩 튀어나옵니다.",
         "Characters flip in one by one like cards, with a pop."),
    Seed("glow", "Smooth", "IoSunnyOutline", ("text", "glow", "neon", "light", "smooth", "gsap"),
         "네온 글로우", "Glow",
         "단어 주위에 네온 빛이 맥박치듯 번집니다.",
         "A pulsing neon halo around the word."),
    Seed("pulse", "Dynamic", "IoHeartOutline", ("text", "pulse", "beat", "heart", "scale", "gsap"),
         "맥박", "Pulse",
         "단어가 심장 박동처럼 커졌다 돌아옵니다.",
         "The word beats, scaling up and back."),
    Seed("spin", "Dynamic", "IoRefreshOutline", ("text", "spin", "rotate", "360", "dynamic", "gsap"),
         "스핀", "Spin",
         "단어가 평면에서 빙글 돕니다.",
         "The word turns around in the plane."),
)
VERSION = "2.0.0"


def bundled_manifest(key: str) -> dict:
    return json.loads((BUNDLED_DIR / key / "manifest.json").read_text("utf-8"))


def sync_bundled(manager) -> int:
    """Create missing bundled animations (published) and refresh bundled manifests; return rows created."""
    created = 0
    for seed in SEEDS:
        key = f"{seed.name}@{VERSION}"
        manifest = bundled_manifest(key)
        row = manager.filter(plugin_key=key).first()
        if row is None:
            manager.create(
                plugin_key=key, name=seed.name, version=VERSION, title=seed.title, title_en=seed.title_en,
                description=seed.description, description_en=seed.description_en, category=seed.category,
                icon_name=seed.icon, author_id=AUTHOR_ID, author_name=AUTHOR_NAME, tags=list(seed.tags),
                is_published=True, source="bundled", manifest=manifest)
            created += 1
        elif row.source == "bundled" and row.manifest != manifest:
            manager.filter(pk=row.pk).update(manifest=manifest)
    if created:
        logger.info("animation catalogue: %d bundled animations added", created)
    return created
