my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_policy'; exec { $t } $t or die "cannot run test_policy (did make build it?): $!\n";
