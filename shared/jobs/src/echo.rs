//! The loop guard on the actors the ingress read from the webhook: an event caused only by the
//! bridge itself (its Intercom bot admin, its Zendesk API user) is dropped before any vendor
//! call and counted as a loop suppression. Which jobs check this first is
//! [`bridge_domain::routing::JobKind::drops_own_echoes_first`]; the per-field checks of each job
//! stay in place as the safety net for events whose payload does not name an actor.

use bridge_domain::event::{Actor, QueuedEvent, Vendor};
use bridge_domain::ports::{Helpdesk, Messenger, Store};

use crate::{JobError, Outcome, Ports};

/// `Some(LoopSuppressed)` when every actor of `event` is the bridge; `None` otherwise (also when
/// the payload named no actor). Costs no vendor call for Intercom events and at most one cached
/// `own_user_id` lookup for Zendesk events.
pub async fn own_echo<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    event: &QueuedEvent,
) -> Result<Option<Outcome>, JobError> {
    if event.actors.is_empty() {
        return Ok(None);
    }
    let own = match event.vendor {
        Vendor::Intercom => Actor::intercom_admin(&p.config.intercom.bot_admin_id),
        Vendor::Zendesk => Actor::Zendesk(p.zendesk.own_user_id().await?),
    };
    if !event.only_caused_by(&own) {
        return Ok(None);
    }
    tracing::info!(
        entity = %event.entity,
        topic = %event.topic,
        delivery_id = %event.delivery_id,
        "loop suppressed: event caused by the bridge itself"
    );
    Ok(Some(Outcome::LoopSuppressed(format!("{} ({}): caused by the bridge itself", event.entity, event.topic))))
}

#[cfg(test)]
mod tests {
    use bridge_domain::model::Timestamp;

    use super::*;
    use crate::fakes::TestPorts;

    const CONFIG: &str = "version: 1\nintercom: { bot_admin_id: '9' }\n";

    fn event(vendor: Vendor, actors: &[&str]) -> QueuedEvent {
        let entity = match vendor {
            Vendor::Intercom => "conversation:1",
            Vendor::Zendesk => "ticket:1",
        };
        QueuedEvent {
            vendor,
            delivery_id: "d1".into(),
            topic: "conversation.admin.noted".into(),
            entity: entity.parse().unwrap(),
            received_at: Timestamp(0),
            payload: serde_json::Value::Null,
            trace_id: None,
            actors: actors.iter().map(|a| Actor::parse(vendor, a).unwrap()).collect(),
        }
    }

    #[tokio::test]
    async fn events_caused_only_by_the_bridge_are_suppressed() {
        let p = TestPorts::new(CONFIG);
        let out = own_echo(&p.ports(), &event(Vendor::Intercom, &["admin:9"])).await.unwrap();
        assert!(matches!(out, Some(Outcome::LoopSuppressed(_))), "{out:?}");
        // The fake helpdesk acts as Zendesk user 1.
        let out = own_echo(&p.ports(), &event(Vendor::Zendesk, &["user:1"])).await.unwrap();
        assert!(matches!(out, Some(Outcome::LoopSuppressed(_))), "{out:?}");
    }

    #[tokio::test]
    async fn human_mixed_or_unknown_actors_go_through() {
        let p = TestPorts::new(CONFIG);
        for (vendor, actors) in [
            (Vendor::Intercom, vec!["admin:7"]),
            (Vendor::Intercom, vec!["admin:9", "user:c1"]),
            (Vendor::Intercom, vec![]),
            (Vendor::Intercom, vec!["user:9"]),
            (Vendor::Zendesk, vec!["user:2"]),
            (Vendor::Zendesk, vec![]),
        ] {
            let out = own_echo(&p.ports(), &event(vendor, &actors)).await.unwrap();
            assert_eq!(out, None, "{vendor} {actors:?}");
        }
    }
}
