#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser test (tests/dashboards/test_browser.py), driven by
# Playwright through its executable path. Idempotent: installs only when missing. Playwright's own
# browser download (`playwright install`) is never used: it needs network beyond the package registries.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "Chromium fehlt: installiere das Debian-Paket chromium (für den Browser-Test des Dashboards)."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
