#!/usr/bin/env bash
# `make demo`: a phantom PACS export, mined nightly through the Prefect flow, summarised, queried in SQL,
# and a tiny RadFinder trained and evaluated on it.
set -euo pipefail
out=${RADMINE_DEMO_DIR:-demo}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"
echo "== radmine synth: a phantom PACS export of ${RADMINE_DEMO_STUDIES:-12} studies"
radmine synth --out "$out/phantom" --studies "${RADMINE_DEMO_STUDIES:-12}" --seed 7
bash "$here/demo_flow.sh" "$out" "$out/data"
echo
echo "== SQL: why references did not become pairs"
radmine query "$out/data" "SELECT reason, count(*) AS n FROM rejections GROUP BY 1 ORDER BY 2 DESC"
echo
echo "== radmine train --tiny on the phantom (a minute on a laptop CPU), then radmine evaluate on its test patients"
radmine train "$out/data" --tiny --config "$here/demo_model.json" --out "$out/run" --quiet
radmine evaluate "$out/run/checkpoint" "$out/data" --split test --out "$out/run/metrics.json" >/dev/null
sed -n '1,/^## Retrieval/p' "$out/run/metrics.md" | sed '$d'
sed -n '/^## Retrieval/,/^## Zero-shot/p' "$out/run/metrics.md" | sed '$d'
echo "(a 12-study demo holds too few test patients for meaningful figures: see model/README.md for the phantom run)"
radmine review "$out/data" --n 50 --out "$out/review.html"
echo "open $out/review.html to review the pairs by eye"
