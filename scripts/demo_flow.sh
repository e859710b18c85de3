#!/usr/bin/env bash
# The flow part of `make demo`: mine a phantom export through the Prefect flow (local mode, nothing to
# start), re-run it after the export grows (only the new study is read), then look at the tables.
# Usage: scripts/demo_flow.sh [DEMO_DIR [DATA_DIR]]  (default: demo, demo/data; reuses DEMO_DIR/phantom when present;
# DATA_DIR is replaced)
set -euo pipefail
out=${1:-${RADMINE_DEMO_DIR:-demo}}
data=${2:-$out/data}
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
export PREFECT_HOME=${PREFECT_HOME:-$out/.prefect}
# the demo keeps real (synthetic) identifiers so the SQL below reads naturally; drop the flag for pseudonyms
if [ ! -d "$out/phantom/export" ]; then
  echo "== radmine synth: a phantom PACS export of 12 studies"
  radmine synth --out "$out/phantom" --studies 12 --seed 7
fi
echo
echo "== the nightly export, night 1: all but the last study"
python -m flows.testing "$out/phantom" "$out/nightly" 1
rm -rf "$data"
radmine mine "$out/nightly/export" --reports "$out/nightly/reports.jsonl" --data "$data" --volumes --keep-identifiers \
  2>&1 | grep -E "published version|Flow run .* Finished" || true
echo
echo "== night 2: the export gained a study; only its files and report are read"
python -m flows.testing "$out/phantom" "$out/nightly" grow
radmine mine "$out/nightly/export" --reports "$out/nightly/reports.jsonl" --data "$data" --volumes --keep-identifiers \
  2>&1 | grep -E "published version|Flow run .* Finished" || true
radmine query "$data" "SELECT run_id, status, json_extract(counts, '$.files_to_index') AS files_read,
  json_extract(counts, '$.reports_to_mine') AS reports_mined FROM runs ORDER BY run_id"
echo
echo "== radmine stats"
radmine stats "$data" --out "$out/stats"
echo
echo "== SQL: pairs per finding present in the snippet"
radmine query "$data" "SELECT l.label, count(*) AS pairs FROM snippet_slices p JOIN snippet_labels l USING (report_id, ref_id)
  WHERE l.value = 'present' GROUP BY 1 ORDER BY 2 DESC"
echo
echo "== SQL: a few snippet-slice pairs with their depth in the training volume"
radmine query "$data" "SELECT report_id, ref_id, round(depth_mm, 1) AS depth_mm, slice_index, left(snippet, 60) AS snippet
  FROM snippet_slices ORDER BY report_id, ref_id LIMIT 8"
