#!/bin/sh
# Nightly backup of the billing configuration (run by cron as user backup).
# It only ever reads the ConfigMaps of namespace billing.
set -eu
dir=$(dirname "$0")
out=/opt/course/host-iam-01/backups/configmaps-$(date +%F).yaml
mkdir -p "$(dirname "$out")"
kubectl --kubeconfig "$dir/kubeconfig" -n billing get configmaps -o yaml > "$out"
