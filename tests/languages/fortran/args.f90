program args
  implicit none
  integer :: i, n
  character(len=:), allocatable :: arg
  do i = 1, command_argument_count()
    call get_command_argument(i, length=n)
    allocate (character(len=n) :: arg)
    call get_command_argument(i, arg)
    write (*, '(i0, a, a)') n, ':', arg
    deallocate (arg)
  end do
end program args
