"""What organizations announces to the apps above it, which it cannot import (docs/architecture.md
"Layers")."""

from django.dispatch import Signal

# Sent when a membership is deleted, by any path (organizations.receivers), inside its transaction,
# with `organization` and the deleted `membership`: an app that showed members a shared secret
# replaces it here (projects rotates its feed addresses), and a receiver's error rolls the removal
# back.
membership_removed = Signal()
