my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_campaign'; exec { $t } $t or die "cannot run test_campaign (did make build it?): $!\n";
