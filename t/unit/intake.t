my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_intake'; exec { $t } $t or die "cannot run test_intake (did make build it?): $!\n";
