#!/usr/bin/env bash
# The kubeconfig of the preview and renewal jobs, from their environment's secret KUBECONFIG:
#   .github/kubeconfig.sh write    writes $KUBECONFIG_DATA to $RUNNER_TEMP/kubeconfig, readable by
#                                  this user only, and names it in $GITHUB_ENV for later steps;
#                                  without it, writes nothing (stacks that render need no cluster)
#   .github/kubeconfig.sh remove   removes that file (the job's last step, whatever failed)
set -euo pipefail

file="${RUNNER_TEMP:?}/kubeconfig"
case "${1-}" in
  write)
    if [ -n "${KUBECONFIG_DATA-}" ]; then
      umask 077
      printf '%s\n' "$KUBECONFIG_DATA" > "$file"
      echo "KUBECONFIG=$file" >> "${GITHUB_ENV:?}"
    else
      echo "No KUBECONFIG secret: only stacks that render (no kubeContext) can preview."
    fi
    ;;
  remove)
    rm -f "$file"
    ;;
  *)
    echo "usage: $0 write|remove" >&2
    exit 2
    ;;
esac
