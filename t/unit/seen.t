my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_seen'; exec { $t } $t or die "cannot run test_seen (did make build it?): $!\n";
