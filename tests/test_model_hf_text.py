"""A local Hugging Face checkpoint as the text encoder: trains, saves a self-contained checkpoint, evaluates, never downloads."""
import json
import shutil

import pytest
import torch
import transformers  # the hf extra is part of the dev install (make test)

from model import evaluate, localize, train
from model.checkpoint import load_checkpoint
from model.tokenizer import ReportTokenizer
from test_model_data import make_tables
from test_model_train import CONFIG


def tiny_bert(directory, corpus: list[str]) -> None:
    """A 1-layer BERT with a WordPiece vocabulary from `corpus`, saved as a Hugging Face checkpoint would be."""
    wordpiece = ReportTokenizer.train(corpus, 200)
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=wordpiece._tok, pad_token="[PAD]", unk_token="[UNK]",
                                               cls_token="[CLS]", sep_token="[SEP]")
    tok.save_pretrained(directory)
    cfg = transformers.BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=64, max_position_embeddings=64)
    torch.manual_seed(0)
    transformers.BertModel(cfg).save_pretrained(directory)


def test_hf_text_model_trains_saves_and_evaluates_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = tmp_path / "data"
    make_tables(data)
    hf = tmp_path / "bert"
    tiny_bert(hf, ["apical nodule", "basal effusion", "there is no nodule", "nodule near the carina"])
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({**CONFIG, "text_model": str(hf)}))
    run = tmp_path / "run"
    assert train.main([str(data), "--tiny", "--config", str(cfg), "--out", str(run), "--quiet"]) == 0

    ckpt = run / "checkpoint"
    assert (ckpt / "text_model" / "config.json").exists() and not (ckpt / "tokenizer.json").exists()
    before = transformers.AutoModel.from_pretrained(hf, local_files_only=True).state_dict()
    shutil.rmtree(hf)  # the checkpoint stands alone
    model, tok, _ = load_checkpoint(ckpt)
    after = {k.removeprefix("text.model."): v for k, v in model.state_dict().items() if k.startswith("text.model.")}
    assert after.keys() == before.keys()
    assert any(not torch.equal(after[k], before[k]) for k in before), "the text model was not fine-tuned"
    ids, mask = tok.encode(["there is no nodule", "apical nodule"], 16)
    assert ids.shape == (2, 16) and mask[0].sum() > 1
    emb = model.eval().encode_text(ids, mask)
    assert emb.shape == (2, model.cfg.embed_dim) and torch.allclose(emb.norm(dim=-1), torch.ones(2), atol=1e-5)

    out = tmp_path / "m.json"
    assert evaluate.main([str(ckpt), str(data), "--split", "test", "--out", str(out), "--bootstrap", "20"]) == 0
    m = json.loads(out.read_text())
    assert m["retrieval"]["n"] == 3 and m["localization"]["n"] == 6
    assert localize.main([str(ckpt), "se3", "nodule near the carina", "--data-dir", str(data),
                          "--png", str(tmp_path / "loc.png")]) == 0
    assert "mm" in capsys.readouterr().out


def test_a_text_model_that_is_not_a_local_checkpoint_is_refused(tmp_path):
    data = tmp_path / "data"
    make_tables(data)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({**CONFIG, "text_model": "bert-base-uncased"}))  # a hub name: never downloaded
    with pytest.raises(ValueError, match="not a local Hugging Face checkpoint directory"):
        train.main([str(data), "--tiny", "--config", str(cfg), "--out", str(tmp_path / "run"), "--quiet"])
