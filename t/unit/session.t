my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_session'; exec { $t } $t or die "cannot run test_session (did make build it?): $!\n";
