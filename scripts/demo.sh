#!/usr/bin/env bash
# The demo: a phantom PACS export, its tables, and a look at them through SQL.
set -euo pipefail
out=${RADMINE_DEMO_DIR:-demo}
rm -rf "$out"
echo "== radmine synth: a phantom PACS export of 12 studies"
radmine synth --out "$out/phantom" --studies 12 --seed 7
echo
echo "== the answer key, through SQL"
radmine query "$out/phantom/truth"
radmine query "$out/phantom/truth" \
  "SELECT coalesce(expected_rejection, 'matchable') AS expected, count(*) AS refs FROM truth_references GROUP BY 1 ORDER BY 2 DESC"
