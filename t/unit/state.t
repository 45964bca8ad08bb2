my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_state'; exec { $t } $t or die "cannot run test_state (did make build it?): $!\n";
