"""The knowledge base: Markdown articles in nlp/knowledge/, split into quotable passages.

Torch-free: the index of their embeddings is built by `manage.py build_knowledge_index`
(nlp.inference.retrieval) and read by the ml worker."""

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "knowledge"
_FRONT = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Passage:
    slug: str
    title: str
    index: int  # paragraph number within the article, from 0
    text: str


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    tags: tuple[str, ...]
    paragraphs: tuple[str, ...]


def article_parse(path: Path) -> Article:
    match = _FRONT.match(path.read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"{path.name}: no front matter")
    meta = dict(line.split(":", 1) for line in match["meta"].splitlines() if ":" in line)
    slug, title = meta.get("slug", "").strip(), meta.get("title", "").strip()
    if slug != path.stem or not title:
        raise ValueError(f"{path.name}: the front matter needs a title and slug {path.stem!r}")
    tags = tuple(t.strip() for t in meta.get("tags", "").strip(" []").split(",") if t.strip())
    paragraphs = tuple(
        " ".join(p.split()) for p in re.split(r"\n\s*\n", match["body"]) if p.strip()
    )
    return Article(slug=slug, title=title, tags=tags, paragraphs=paragraphs)


@cache
def articles(folder: Path = KNOWLEDGE_DIR) -> tuple[Article, ...]:
    return tuple(
        article_parse(path) for path in sorted(folder.glob("*.md")) if path.name != "README.md"
    )


def passages(folder: Path = KNOWLEDGE_DIR) -> list[Passage]:
    return [
        Passage(slug=a.slug, title=a.title, index=i, text=text)
        for a in articles(folder)
        for i, text in enumerate(a.paragraphs)
    ]


def corpus_hash(folder: Path = KNOWLEDGE_DIR) -> str:
    """Changes whenever an article does: the index built from an older corpus is stale."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.md")):
        if path.name != "README.md":
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
