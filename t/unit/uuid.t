my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_uuid'; exec { $t } $t or die "cannot run test_uuid (did make build it?): $!\n";
