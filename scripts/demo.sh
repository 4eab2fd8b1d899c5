#!/usr/bin/env bash
# `make demo`: the scripted local story (moto + vendor simulators + `bridge serve`: a customer
# chats, an agent tags the conversation `escalate`, the ticket, link and note are printed).
# Placeholder until job 1 lands; the team replaces this script.
set -euo pipefail
echo "make demo: the demo is not wired yet (job 1 is in progress; see README 'Status')." >&2
exit 1
