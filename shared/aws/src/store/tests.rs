//! Unit tests of the item shapes (the store itself is tested against moto in tests/moto.rs).

use super::*;

fn link(tickets: &[u64], live: u64) -> Link {
    let conv = ConversationId::parse("c1").unwrap();
    let mut l = Link::new(conv, TicketId::new(live).unwrap(), None, None, Timestamp(0));
    l.tickets = tickets.iter().map(|t| TicketId::new(*t).unwrap()).collect();
    l
}

#[test]
fn link_tickets_dedupes_and_includes_the_live_ticket() {
    let got = link_tickets(&link(&[3, 4, 3], 5));
    let ids: Vec<u64> = got.into_iter().map(TicketId::get).collect();
    assert_eq!(ids, vec![3, 4, 5]);
    let got = link_tickets(&link(&[7], 7));
    assert_eq!(got.len(), 1);
}

#[test]
fn keys_carry_their_type_prefix() {
    let c1 = ConversationId::parse("c1").unwrap();
    assert_eq!(intent_key(&Intent::Writeback(c1.clone(), TicketId::new(7).unwrap())), "INTENT#writeback#c1#7");
    assert_eq!(conversation_key(&c1), "IC#CONV#c1");
    assert_eq!(ticket_key(TicketId::new(42).unwrap()), "ZD#TICKET#42");
    assert_eq!(doc_key(&DocKey::ProfileBackfill), "DOC#PROFILE#BACKFILL#contact");
}

#[test]
fn intent_claim_reads_done_and_busy() {
    let mut item = key("INTENT#x".into(), sort::INTENT);
    item.insert("state".into(), text(CLAIMED));
    assert_eq!(intent_claim(&item), Claim::Busy);
    item.insert("state".into(), text(DONE));
    item.insert("result".into(), text("ticket:9"));
    assert_eq!(intent_claim(&item), Claim::Done("ticket:9".into()));
}
