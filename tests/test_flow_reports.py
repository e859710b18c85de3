"""The pipeline's report tables over the real mining library, built in DuckDB at bounded memory:
near-duplicate clusters equal `mining.dedup.cluster_snippets` over the same rows, and a re-run with
amended and new reports equals a fresh full run."""
from __future__ import annotations

import json
import random

import data_contracts as dc
from flows import pipeline as pl

TEMPLATES = ["Unchanged {n} mm right upper lobe nodule (series 3, image {i}).",
             "Unchanged {n} mm right upper lobe nodules (series 3, image {i}).",
             "Small left pleural effusion (4:{i}).",
             "Consolidation in the left lower lobe, series 5 image {i}."]


def reports(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        lines = [rng.choice(TEMPLATES).format(n=rng.randint(2, 9), i=rng.randint(10, 99)) for _ in range(rng.randint(1, 3))]
        lines.append(f"Unique remark number {k} about {rng.choice(['the liver', 'a rib', 'the spleen'])} (2:{k + 10}).")
        out.append({"report_id": f"R{k:03d}", "accession_number": f"A{k:03d}", "text": "FINDINGS: " + " ".join(lines)})
    return out


def run(tmp_path, name: str, rows: list[dict]):
    (tmp_path / "export").mkdir(exist_ok=True)
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_report_tables_and_clusters_equal_the_in_memory_pass_and_a_fresh_run(tmp_path):
    from mining.dedup import cluster_snippets

    opts = dict(export_dir=str(tmp_path / "export"), keep_identifiers=True, report_batch_size=7)
    rows = reports(40, seed=1) + [{"report_id": "R900", "accession_number": "A900",
                                   "text": "BEFUND: Rundherd im rechten Oberlappen (Serie 3, Bild 45). Kein Erguss."}]
    pl.run_pipeline(pl.MineOptions(reports=str(run(tmp_path, "a", rows)), data_dir=str(tmp_path / "data"), **opts))
    refs = dc.read_table("references", tmp_path / "data").to_pylist()
    assert len(refs) > 60
    languages = {r["report_id"]: r["language"] for r in dc.read_table("reports", tmp_path / "data").to_pylist()}
    assert languages["R900"] == "de" and set(languages.values()) == {"en", "de"}  # detected by the mining batches
    want = [dict(r) for r in refs]
    cluster_snippets(want)
    assert [(r["duplicate_cluster"], r["duplicate_cluster_size"]) for r in refs] == \
        [(r["duplicate_cluster"], r["duplicate_cluster_size"]) for r in want]
    sizes = {r["duplicate_cluster"]: r["duplicate_cluster_size"] for r in refs if r["duplicate_cluster"] is not None}
    assert len(sizes) >= 3 and max(sizes.values()) > 10  # "nodule" and "nodules" share a cluster

    rows[3] = {**rows[3], "text": rows[3]["text"] + " Small left pleural effusion (4:77)."}  # amended
    rows = rows[:-3] + reports(45, seed=2)[40:]  # two dropped (R038, R039; R900 too), five new
    second = pl.run_pipeline(pl.MineOptions(reports=str(run(tmp_path, "b", rows)), data_dir=str(tmp_path / "data"), **opts))
    c = second["counts"]
    assert (c["reports_to_mine"], c["reports_amended"], c["reports_dropped"]) == (6, 1, 3), c
    fresh = tmp_path / "fresh"
    pl.run_pipeline(pl.MineOptions(reports=str(run(tmp_path, "b", rows)), data_dir=str(fresh), **opts))
    for t in ("reports", "references", "labels", "snippet_labels"):
        assert dc.read_table(t, tmp_path / "data").equals(dc.read_table(t, fresh)), t


def test_the_flow_reads_a_section_split_semicolon_export_through_its_column_mapping(tmp_path, capsys):
    """A German RIS export: ';'-separated, findings and impression in columns of their own, the date under a name
    no default knows. The mapping is a run input; changing it re-mines the reports whose text it changes."""
    (tmp_path / "export").mkdir()
    src = tmp_path / "befunde.csv"
    src.write_text("Auftragsnummer;Patienten-ID;Untersucht am;Befund;Beurteilung\n"
                   "A1;P1;05.03.2024;Rundherd im rechten Oberlappen (Serie 3, Bild 45).;Kein Erguss.\n"
                   "A2;P2;06.03.2024;Kein Rundherd.;\n", encoding="cp1252")
    opts = dict(export_dir=str(tmp_path / "export"), reports=str(src), data_dir=str(tmp_path / "data"),
                keep_identifiers=True)
    columns = {"id": "Auftragsnummer", "accession": "Auftragsnummer", "date": "Untersucht am"}
    row = pl.run_pipeline(pl.MineOptions(columns=columns, **opts))
    assert "columns: report id <- 'Auftragsnummer'" in capsys.readouterr().out  # in the run's log
    reports = {r["report_id"]: r for r in dc.read_table("reports", tmp_path / "data").to_pylist()}
    assert reports["A1"]["text"] == "BEFUND:\nRundherd im rechten Oberlappen (Serie 3, Bild 45).\n\nBEURTEILUNG:\nKein Erguss."
    assert (str(reports["A1"]["study_date"]), reports["A1"]["patient_id"]) == ("2024-03-05", "P1")
    refs = dc.read_table("references", tmp_path / "data").to_pylist()
    assert [(r["report_id"], r["series_number"], r["image_number"], r["section"]) for r in refs] == [("A1", 3, 45, "FINDINGS")]
    labels = {(r["report_id"], r["label"]): r["value"] for r in dc.read_table("labels", tmp_path / "data").to_pylist()}
    assert labels[("A1", "Pleural effusion")] == "absent"  # from the impression column
    assert json.loads(row["inputs"])["columns"] == columns
    again = pl.run_pipeline(pl.MineOptions(columns={**columns, "text": "Befund"}, **opts))
    # one column is the text as it is (no header): both texts change, and A1 loses its impression
    assert (again["counts"]["reports_to_mine"], again["counts"]["reports_amended"]) == (2, 2)
    texts = {r["report_id"]: r["text"] for r in dc.read_table("reports", tmp_path / "data").to_pylist()}
    assert texts == {"A1": "Rundherd im rechten Oberlappen (Serie 3, Bild 45).", "A2": "Kein Rundherd."}


def test_a_nightly_run_over_a_folder_of_daily_files_mines_only_the_new_night(tmp_path):
    """The RIS drops one file a night into a folder: the next run mines the new night's reports and the amendment it
    re-sends, keeps every earlier night's rows, and gives the tables a fresh run over the folder gives."""
    (tmp_path / "export").mkdir()
    folder = tmp_path / "ris"
    folder.mkdir()
    rows = reports(12, seed=3)

    def night(name: str, part: list[dict]):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in part))

    night("reports_2024-03-01.jsonl", rows[:6])
    night("reports_2024-03-02.jsonl", rows[6:10])
    opts = dict(export_dir=str(tmp_path / "export"), reports=str(folder), keep_identifiers=True, report_batch_size=5)
    first = pl.run_pipeline(pl.MineOptions(data_dir=str(tmp_path / "data"), **opts))
    assert first["counts"]["reports_to_mine"] == 10
    amended = {**rows[2], "text": rows[2]["text"] + " Small left pleural effusion (4:77)."}
    night("reports_2024-03-03.jsonl", rows[10:] + [amended])
    second = pl.run_pipeline(pl.MineOptions(data_dir=str(tmp_path / "data"), **opts))
    c = second["counts"]
    assert (c["reports_to_mine"], c["reports_amended"], c["reports_carried"], c["reports_dropped"]) == (3, 1, 9, 0), c
    texts = {r["report_id"]: r["text"] for r in dc.read_table("reports", tmp_path / "data").to_pylist()}
    assert len(texts) == 12 and texts[rows[2]["report_id"]] == amended["text"]
    fresh = tmp_path / "fresh"
    pl.run_pipeline(pl.MineOptions(data_dir=str(fresh), **opts))
    for t in ("reports", "references", "labels", "snippet_labels"):
        assert dc.read_table(t, tmp_path / "data").equals(dc.read_table(t, fresh)), t
