my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_id'; exec { $t } $t or die "cannot run test_id (did make build it?): $!\n";
