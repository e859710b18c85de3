"""The text side from a local Hugging Face checkpoint directory (`text_model` in the config).

Needs the `hf` extra (`pip install 'radmine[hf]'`, i.e. `transformers`). Everything is read with
`local_files_only=True`: nothing is downloaded. A checkpoint trained this way keeps the model's
config and tokenizer in `checkpoint/text_model/`, so it loads without the original directory.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from model.encoders import masked_mean


def _transformers():
    try:
        import transformers
    except ImportError as e:
        raise ImportError("text_model needs the Hugging Face extra: pip install 'radmine[hf]' (transformers)") from e
    return transformers


def _check_dir(directory: str | Path) -> Path:
    d = Path(directory)
    if not (d / "config.json").is_file():
        raise ValueError(f"text_model {str(d)!r} is not a local Hugging Face checkpoint directory (no config.json); "
                         "radmine never downloads models: point it at a directory saved with save_pretrained")
    return d


class HFTokenizer:
    """The checkpoint's own tokenizer behind radmine's tokenizer interface (`encode`, `ids`, `vocab_size`, `save`)."""

    def __init__(self, tokenizer):
        if tokenizer.pad_token_id is None:
            raise ValueError("the Hugging Face tokenizer has no pad token; set one and save it again")
        self._tok = tokenizer

    @classmethod
    def load(cls, directory: str | Path) -> "HFTokenizer":
        d = _check_dir(directory)
        return cls(_transformers().AutoTokenizer.from_pretrained(d, local_files_only=True))

    @property
    def vocab_size(self) -> int:
        return len(self._tok)

    def ids(self, text: str) -> list[int]:
        return self._tok(text, add_special_tokens=False)["input_ids"]

    def encode(self, texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Ids (N, max_len) and a bool mask (N, max_len), True on real tokens."""
        if max_len < 2:
            raise ValueError(f"max_len must be >= 2, got {max_len}")
        enc = self._tok(list(texts), padding="max_length", truncation=True, max_length=max_len, return_tensors="pt")
        return enc["input_ids"].long(), enc["attention_mask"].bool()

    def save(self, directory: str | Path) -> None:
        self._tok.save_pretrained(directory)


class HFTextEncoder(nn.Module):
    """A Hugging Face encoder, mean-pooled over real tokens: ids (N, L), mask (N, L) -> (N, hidden)."""

    def __init__(self, directory: str | Path, pretrained: bool = True):
        super().__init__()
        tf, d = _transformers(), _check_dir(directory)
        if pretrained:
            self.model = tf.AutoModel.from_pretrained(d, local_files_only=True)
        else:  # rebuilt from a radmine checkpoint: its weights come from model.safetensors
            self.model = tf.AutoModel.from_config(tf.AutoConfig.from_pretrained(d, local_files_only=True))
        self.width = int(self.model.config.hidden_size)
        self.max_tokens = int(getattr(self.model.config, "max_position_embeddings", 10**9))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if ids.ndim != 2 or ids.shape != mask.shape:
            raise ValueError(f"ids and mask must both be (N, L), got {tuple(ids.shape)} and {tuple(mask.shape)}")
        if ids.shape[1] > self.max_tokens:
            raise ValueError(f"sequence length {ids.shape[1]} exceeds the model's {self.max_tokens} positions")
        h = self.model(input_ids=ids, attention_mask=mask.long()).last_hidden_state  # (N, L, hidden)
        return masked_mean(h, mask)

    def save_config(self, directory: str | Path) -> None:
        self.model.config.save_pretrained(directory)
