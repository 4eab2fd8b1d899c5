//! The chaos suite (`make chaos`): DESIGN.md's invariants (one effect per intent, nothing lost,
//! both sides consistent at the end) under crashes at every step of every job, duplicated,
//! reordered and delayed deliveries, concurrent replays, 429 storms, 5xx bursts and a vendor
//! outage that drops webhooks.
//!
//! Crashes: the ports (store, Intercom, Zendesk) are wrapped so that the N-th call of a run
//! fails and every later call fails too (the process is dead: not even the lease is released),
//! for every N until a run completes without reaching N. Two flavours: the N-th call is never
//! made ("crash before"), or it is made and its answer lost ("crash after": the vendor or
//! DynamoDB did the write, the worker never heard). Then the message is redelivered, with the
//! clock moved past the leases, until it is acknowledged, and the effects are counted on the
//! simulators and in the store. Events come from the simulators' real webhooks through the real
//! ingress (signature check, parse, classify), captured instead of queued.

mod delivery;
mod escalation;
mod follow_up;
mod harness;
mod injection;
mod intake;
mod tag_sync;
mod ticket_status;

/// Jobs 3 and 4, and jobs 5 and 6, on top of the harness configuration (job 1).
const SECTIONS: &str = r#"
ticket_status:
  on:
    solved:
      message: "Your ticket #{ticket_id} ({subject}) was solved by {agent_name}."
      conversation: close
      tags: [zendesk-solved]
tag_sync:
  map: { VIP: vip_customer, Billing: billing }
  unmapped: slug
  ignore_intercom: [escalate]
  ignore_zendesk: [intercom, tier2, closed_by_merge]
routing:
  plan_tiers: [enterprise, pro, starter]
  max_attribute_age_hours: 720
  default: { group_id: {general} }
  rules:
    - name: enterprise customers
      when: { plan: [enterprise] }
      group_id: {enterprise}
      priority: high
      tags: [enterprise]
acknowledgement:
  channels: [web, email]
  message_type: email
  subject_template: "We received your request #{ticket_id}"
  body_template: "Thanks! Request #{ticket_id} \"{subject}\" is with our team."
  sla:
    default: within one business day
"#;
