#!/usr/bin/env bash
# The GPU check of this package, as one script: the topology benchmark on CUDA, then the paper
# profile of spoken digit (3 seeds) and of Fashion-MNIST (seed 0) as three processes sharing the
# GPU, each cut off at the time left. Results (netCDF, the format the notebooks load) are packed
# into OUT_DIR/results.tgz: unpack into results/ and the notebooks (profile paper) reuse them.
#
# Usage: bash benchmarks/gpu_paper_runs.sh OUT_DIR [SECONDS]
#   needs python3 with torch (CUDA), numpy, xarray, h5py, pandas, scikit-learn, scikit-image,
#   matplotlib, seaborn, tqdm; pooch, h5netcdf and platformdirs come as wheels in .whl/ when
#   missing; the datasets in $RRAMPAPER_DATA_DIR (default .gpu_data/).
set -u
OUT=${1:?usage: gpu_paper_runs.sh OUT_DIR [SECONDS]}
BUDGET=${2:-540}
start=$(date +%s)
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 1
else
  export PYTHONPATH=$PWD
fi
export RRAMPAPER_DATA_DIR=${RRAMPAPER_DATA_DIR:-$PWD/.gpu_data}
export RRAMPAPER_RESULTS_DIR=${RRAMPAPER_RESULTS_DIR:-/tmp/rrampaper-results}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" >> "$OUT/gpu.txt" 2>&1

timeout 150 python3 benchmarks/bench_topology.py --device cuda --threads 4 > "$OUT/bench_topology.txt" 2>&1
echo "bench exit $? after $(( $(date +%s) - start )) s" >> "$OUT/gpu.txt"

left=$(( BUDGET - ($(date +%s) - start) - 25 ))
train() { name=$1; shift; t0=$(date +%s); timeout "$left" python3 -m rrampaper.cli train "$@" \
  --profile paper --device cuda > "$OUT/$name.txt" 2>&1
  echo "$name exit $? after $(( $(date +%s) - t0 )) s (124: cut off)" >> "$OUT/gpu.txt"; }
train spoken_paper spoken_digit --approach software_TO hardware_TO software_WO --wo-on-device &
train fashion_paper_hwTO fashion_mnist --seeds 0 --approach hardware_TO &
train fashion_paper_WO fashion_mnist --seeds 0 --approach software_WO --wo-on-device &
wait
echo "all done after $(( $(date +%s) - start )) s" >> "$OUT/gpu.txt"
tar czf "$OUT/results.tgz" -C "$(dirname "$RRAMPAPER_RESULTS_DIR")" "$(basename "$RRAMPAPER_RESULTS_DIR")"
