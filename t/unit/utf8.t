my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_utf8'; exec { $t } $t or die "cannot run test_state (did make build it?): $!\n";
