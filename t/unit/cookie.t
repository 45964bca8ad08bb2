my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_cookie'; exec { $t } $t or die "cannot run test_cookie (did make build it?): $!\n";
