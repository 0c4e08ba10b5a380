//! The start plan, the one-screen policy and the link waits (helpers in
//! the parent test module). Nothing here reads time but the book's start
//! stamps, which take one base instant.

use super::*;

const NO_LINKS: PlanOptions = PlanOptions {
    bot_account: false,
    link_fallback_enabled: false,
    preferred_link: false,
};

fn native(target: UserId, requester: UserId) -> WatchRequest {
    WatchRequest {
        guild: G.into(),
        target,
        requester,
        channel: Some(VC),
        transport: WatchTransport::Native {
            stream_key: key(target),
        },
    }
}

fn start(book: &mut WatchBook, plan: StartPlan, now: Instant) -> WatchId {
    match plan {
        StartPlan::Watch { request, .. } => book.start(request, now).expect("room").id(),
        other => panic!("expected a watch plan, got {other:?}"),
    }
}

#[test]
fn a_sharer_is_watched_natively_and_replaces_another_screen() {
    let now = Instant::now();
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), None, true),
        vs(CAROL, Some(VC), None, false),
    ]);
    let mut book = WatchBook::new();
    let plan = plan_start(&reg, &book, G, CAROL, Some("alice_w"), USER_LINK);
    assert_eq!(
        plan,
        StartPlan::Watch {
            request: WatchRequest {
                guild: G.into(),
                target: ALICE,
                requester: CAROL,
                channel: Some(VC),
                transport: WatchTransport::Native {
                    stream_key: key(ALICE)
                },
            },
            replace: vec![],
            reason: SelectionReason::ExplicitTarget,
        }
    );
    let alice = start(&mut book, plan, now);
    // The same screen again: reused, nothing replaced.
    match plan_start(&reg, &book, G, BOB, Some("alice_w"), USER_LINK) {
        StartPlan::Watch { replace, .. } => assert!(replace.is_empty()),
        other => panic!("{other:?}"),
    }
    // Bob's camera: Alice's watch ends first.
    match plan_start(&reg, &book, G, CAROL, Some("bob"), USER_LINK) {
        StartPlan::Watch {
            request, replace, ..
        } => {
            assert_eq!(request.transport, WatchTransport::Webcam);
            assert_eq!(replace, vec![alice]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_screen_at_a_time_counts_place_and_target() {
    let now = Instant::now();
    let mut book = WatchBook::new();
    let alice = book.start(native(ALICE, BOB), now).expect("room").id();
    assert!(book.replaced_by(G, ALICE).is_empty());
    assert_eq!(book.replaced_by(G, BOB), vec![alice]);
    // The same user elsewhere (a call) is another screen.
    let call = Place::Call(ChannelId(77));
    assert_eq!(book.replaced_by(call, ALICE), vec![alice]);
    assert!(WatchBook::new().replaced_by(G, ALICE).is_empty());
}

#[test]
fn a_target_not_sharing_gets_a_link_or_a_refusal() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(CAROL, Some(VC), None, false),
    ]);
    let book = WatchBook::new();
    assert_eq!(
        plan_start(&reg, &book, G, ALICE, Some("carol"), USER_LINK),
        StartPlan::Link {
            target: CAROL,
            reason: PlanReason::TargetNotSharing,
            selection: Some(SelectionReason::ExplicitTarget),
        }
    );
    let refused = plan_start(&reg, &book, G, ALICE, Some("carol"), NO_LINKS);
    assert_eq!(
        refused,
        StartPlan::Refused {
            refusal: StartRefusal::Unavailable(PlanReason::TargetNotSharing),
            target: Some(CAROL),
        }
    );
    match refused {
        StartPlan::Refused { refusal, .. } => assert_eq!(refusal.reason(), "target_not_sharing"),
        _ => unreachable!(),
    }
    // Asked for a link: a link even for a sharer.
    let preferred = PlanOptions {
        preferred_link: true,
        ..USER_LINK
    };
    assert!(matches!(
        plan_start(&reg, &book, G, CAROL, Some("alice_w"), preferred),
        StartPlan::Link {
            target: ALICE,
            reason: PlanReason::LinkPreferred,
            ..
        }
    ));
}

#[test]
fn nobody_sharing_offers_the_requester_a_link_only_when_unnamed() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), None, false),
        vs(CAROL, Some(VC), None, false),
    ]);
    let book = WatchBook::new();
    let link = StartPlan::Link {
        target: CAROL,
        reason: PlanReason::NoSharer,
        selection: None,
    };
    assert_eq!(plan_start(&reg, &book, G, CAROL, None, USER_LINK), link);
    assert_eq!(
        plan_start(&reg, &book, G, CAROL, Some("  "), USER_LINK),
        link
    );
    // A preferred link does not change whom the no-sharer link is for.
    let preferred = PlanOptions {
        preferred_link: true,
        ..USER_LINK
    };
    assert_eq!(plan_start(&reg, &book, G, CAROL, None, preferred), link);
    // Links off: the selection's refusal stands.
    let refused = plan_start(&reg, &book, G, CAROL, None, NO_LINKS);
    assert_eq!(
        refused,
        StartPlan::Refused {
            refusal: StartRefusal::Selection(Refusal::NoSharer),
            target: None,
        }
    );
    // A named target in another channel: refused, naming them.
    let reg = registry(vec![
        vs(BOB, Some(OTHER_VC), Some(true), false),
        vs(CAROL, Some(VC), None, false),
    ]);
    match plan_start(&reg, &book, G, CAROL, Some("bob"), USER_LINK) {
        StartPlan::Refused { refusal, target } => {
            assert_eq!(refusal.reason(), "target_not_in_requester_channel");
            assert_eq!(target, Some(BOB));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_link_waits_for_our_voice_and_for_a_resolving_native_watch() {
    let now = Instant::now();
    let mut book = WatchBook::new();
    assert!(link_can_proceed(&book, G, Some(VC), VC, ALICE));
    assert!(!link_can_proceed(&book, G, None, VC, ALICE));
    assert!(!link_can_proceed(&book, G, Some(OTHER_VC), VC, ALICE));
    let id = book.start(native(ALICE, BOB), now).expect("room").id();
    assert!(book.native_resolving(G, ALICE));
    assert!(!link_can_proceed(&book, G, Some(VC), VC, ALICE));
    // Another target is not held by Alice's native watch.
    assert!(link_can_proceed(&book, G, Some(VC), VC, BOB));
    assert!(book.set_native_active(id, true));
    assert!(!book.native_resolving(G, ALICE));
    assert!(link_can_proceed(&book, G, Some(VC), VC, ALICE));
    // A link watch never holds a link back.
    assert!(book.set_native_active(id, false));
    assert!(book.set_transport(id, WatchTransport::Link));
    assert!(!book.native_resolving(G, ALICE));
}

#[test]
fn the_waits_are_named() {
    // A voice join gets 8 s before the link start is answered without it.
    assert_eq!(LINK_WAIT, std::time::Duration::from_secs(8));
    assert!(LINK_FRAME_WINDOW > LINK_WAIT);
    assert_eq!(REPLACED_BY_NEW_WATCH, "replaced_by_new_watch");
}
