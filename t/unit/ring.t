my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_ring'; exec { $t } $t or die "cannot run test_ring (did make build it?): $!\n";
