my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_resp'; exec { $t } $t or die "cannot run test_resp (did make build it?): $!\n";
