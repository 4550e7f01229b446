#!/bin/bash
# Queue the distillation array, then its merge, which runs only if every task succeeded.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs
DATA=${DATA:-$PWD/data}
export DATA
jid=$(sbatch --parsable distill.sbatch)
sbatch --dependency=afterok:"$jid" --job-name=densepose-distill-merge --output=logs/merge-%j.out \
  --wrap "npx densepose distill merge $DATA/pseudo/shard-*.json --out $DATA/pseudo/pseudo.json"
echo "distill array $jid queued; merge queued behind it → $DATA/pseudo/pseudo.json"
