# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each of CloudFormation's stack statuses means to the collection, in one place: the modules (what to do with a
stack found in it), the waits (when an operation is over) and the fleet report (has the rack's last operation
failed?) all read these.  Pure: no AWS, no Ansible."""

from __future__ import annotations

# All 23 stack statuses, grouped by what a caller can do with a stack found in them.
IN_PROGRESS = frozenset([
    "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS", "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_ROLLBACK_IN_PROGRESS",
])
REVIEW = "REVIEW_IN_PROGRESS"          # created by a change set never executed: no resources
STABLE = frozenset([
    "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
])
FAILED_INSTALL = "ROLLBACK_COMPLETE"   # a create that rolled back: only delete is possible
GONE = "DELETE_COMPLETE"
STUCK = frozenset([
    "CREATE_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED", "UPDATE_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_FAILED",
])
ALL_STATUSES = IN_PROGRESS | STABLE | STUCK | frozenset([REVIEW, FAILED_INSTALL, GONE])
# What a status says, in one place for the modules and the report: a STABLE stack is usable (an update can start,
# apps can be changed on a STABLE rack) even when its last operation failed and was rolled back
# (UPDATE_ROLLBACK_COMPLETE); the report marks a rack "failed" when its last operation did not do what it meant,
# stable or not.
LAST_OPERATION_FAILED = STUCK | frozenset([FAILED_INSTALL, "UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"])

# What the operator must do for a stack stuck in a failed state.
STUCK_ADVICE = {
    "CREATE_FAILED": "its creation failed with rollback disabled; inspect the failed resources, then remove it "
                     "with state=absent and run again, or run again with recover: true (RollbackStack)",
    "ROLLBACK_FAILED": "its failed creation could not be rolled back; remove it with state=absent (naming in "
                       "retain_resources what cannot be deleted if that delete fails) and run again",
    "DELETE_FAILED": "a previous delete failed; remove what blocks the failed resources and run with state=absent "
                     "again, or name them in retain_resources to leave them in place",
    "UPDATE_FAILED": "an update failed with rollback disabled; run again with recover: true to roll it back "
                     "(RollbackStack) first",
    "UPDATE_ROLLBACK_FAILED": "an update could not be rolled back; fix the failed resources and run again with "
                              "recover: true (ContinueUpdateRollback), naming in resources_to_skip those whose "
                              "rollback cannot succeed",
    "IMPORT_ROLLBACK_FAILED": "a resource import (which this collection never starts) could not be rolled back "
                              "and no CloudFormation API continues it; fix the resources its events name and repeat "
                              "that import (a change set of type IMPORT), or remove the stack with state=absent",
}
