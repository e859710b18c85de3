"""Subword tokenizer trained on the report corpus (WordPiece from the `tokenizers` package)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

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
        if vocab_size < 50:
            raise ValueError(f"vocab_size must be >= 50, got {vocab_size}")
        tok = Tokenizer(models.WordPiece(unk_token=UNK))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=[PAD, UNK, CLS, SEP], min_frequency=1)
        tok.train_from_iterator(list(texts), trainer=trainer)
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
