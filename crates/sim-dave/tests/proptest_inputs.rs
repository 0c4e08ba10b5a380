//! Arbitrary and mutated client bytes never panic the gateway nor change the group.

mod common;

use common::*;
use proptest::prelude::*;
use sim_dave::ClientDaveMsg;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn garbage_client_messages_leave_group_untouched(
        data in proptest::collection::vec(any::<u8>(), 0..400),
        kind in 0u8..2,
    ) {
        let mut net = Net::new();
        net.join(A);
        net.join(B);
        let now = net.now;
        let msg = if kind == 0 { ClientDaveMsg::KeyPackage(data) } else { ClientDaveMsg::CommitWelcome(data) };
        let before = (net.epoch(), net.gw.group_mut(GROUP).members());
        prop_assert!(net.gw.group_mut(GROUP).handle_client(A, msg, now).is_err());
        prop_assert_eq!(before, (net.epoch(), net.gw.group_mut(GROUP).members()));
        prop_assert!(net.gw.poll_output().is_none());
    }
}
