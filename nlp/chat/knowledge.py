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


# The paragraph that says what each asset class does in a diversified portfolio: the chat quotes
# it for "why do I hold …?" — chosen here, not by similarity search, so the answer is the same
# every time (tests check each paragraph still names its class).
ROLE_PASSAGES: dict[str, tuple[str, int]] = {
    "us_equity": ("stocks", 3),
    "intl_developed_equity": ("emerging-vs-developed-markets", 3),
    "emerging_equity": ("emerging-vs-developed-markets", 3),
    "us_aggregate_bonds": ("bonds-and-interest-rates", 4),
    "treasuries": ("treasury-bonds-and-t-bills", 4),
    "tips": ("tips-inflation-protection", 0),
    "corporate_bonds": ("corporate-bonds-credit-risk", 4),
    "real_estate": ("reits-real-estate-funds", 4),
    "gold": ("gold", 2),
    "cash": ("cash-money-market-funds", 4),
}


def role_passage(asset_class: str, folder: Path = KNOWLEDGE_DIR) -> Passage:
    """The knowledge-base paragraph on an asset class's role in a portfolio (KeyError if none)."""
    slug, index = ROLE_PASSAGES[asset_class]
    article = next(a for a in articles(folder) if a.slug == slug)
    return Passage(slug=slug, title=article.title, index=index, text=article.paragraphs[index])
