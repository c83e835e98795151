#!/usr/bin/env bash
# One release's Kubernetes manifest: the base (deploy/kubernetes) with its image set to the published one, as one
# file for `kubectl apply -f`. The release workflow attaches it to each GitHub release; run it by hand the same way:
#   deploy/kubernetes/release-manifest.sh ghcr.io/OWNER/echohost 1.2.3 > echohost-1.2.3.yaml
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 IMAGE TAG   (e.g. ghcr.io/OWNER/echohost 1.2.3)" >&2
  exit 2
fi
base="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A kustomization of its own over the base, so the repository's files stay as they are.
ln -s "$base" "$work/base"
cat > "$work/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - base
images:
  - name: echohost
    newName: $1
    newTag: "$2"
YAML
kubectl kustomize "$work"
