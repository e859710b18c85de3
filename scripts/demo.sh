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
