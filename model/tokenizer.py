"""Subword tokenizer learned from the report corpus (a WordPiece model of the `tokenizers` package)."""
from __future__ import annotations

from pathlib import Path
from collections import Counter
from typing import Iterable

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

PAD, UNK, CLS, SEP = "[PAD]", "[UNK]", "[CLS]", "[SEP]"


class ReportTokenizer:
    """Lower-cased WordPiece; `encode` returns padded id and mask tensors."""

    def __init__(self, tokenizer: Tokenizer):
        self._tok = tokenizer
        self.pad_id = tokenizer.token_to_id(PAD)
        if self.pad_id is None:
            raise ValueError(f"tokenizer has no {PAD} token")

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 8000) -> "ReportTokenizer":
        """Learn a WordPiece vocabulary deterministically from corpus counts.

        Candidates are word prefixes and `##` suffixes of two or more characters, ranked by the characters
        they save (count x (length - 1)), ties alphabetical; every character stays in the vocabulary so any
        word can be spelled. (The `tokenizers` trainers break count ties in hash order, so two runs on the
        same corpus could differ; this keeps training runs reproducible.)
        """
        if vocab_size < 50:
            raise ValueError(f"vocab_size must be >= 50, got {vocab_size}")
        normalizer = normalizers.BertNormalizer(lowercase=True)
        pre = pre_tokenizers.BertPreTokenizer()
        words: Counter[str] = Counter()
        for text in texts:
            words.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
        chars = sorted({c for w in words for c in w})
        vocab = [PAD, UNK, CLS, SEP] + chars + [f"##{c}" for c in chars]
        saved: Counter[str] = Counter()
        for w, n in words.items():
            for i in range(2, len(w) + 1):
                saved[w[:i]] += n * (i - 1)
            for i in range(1, len(w) - 1):
                saved["##" + w[i:]] += n * (len(w) - i - 1)
        ranked = sorted(saved.items(), key=lambda kv: (-kv[1], kv[0]))
        vocab += [piece for piece, _ in ranked[: max(0, vocab_size - len(vocab))]]
        tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token=UNK, max_input_chars_per_word=100))
        tok.normalizer = normalizer
        tok.pre_tokenizer = pre
        tok.decoder = decoders.WordPiece()
        return cls(tok)

    @classmethod
    def load(cls, path: str | Path) -> "ReportTokenizer":
        return cls(Tokenizer.from_file(str(path)))

    @classmethod
    def from_json(cls, text: str) -> "ReportTokenizer":
        return cls(Tokenizer.from_str(text))

    def to_json(self) -> str:
        return self._tok.to_str()

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    def tokens(self, text: str) -> list[str]:
        return self._tok.encode(text).tokens

    def ids(self, text: str) -> list[int]:
        return self._tok.encode(text).ids

    def encode(self, texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Ids (N, max_len) and a bool mask (N, max_len), True on real tokens; [CLS] first."""
        if max_len < 2:
            raise ValueError(f"max_len must be >= 2, got {max_len}")
        cls_id = self._tok.token_to_id(CLS)
        ids = torch.full((len(texts), max_len), self.pad_id, dtype=torch.long)
        for row, enc in enumerate(self._tok.encode_batch(list(texts))):
            seq = [cls_id] + enc.ids[: max_len - 1]
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        return ids, ids != self.pad_id
